#!/usr/bin/perl
# Verify the DKIM signatures of a message with Mail::DKIM, asking only the
# given nameserver. Prints one line per signature, "RESULT DOMAIN SELECTOR",
# then "overall RESULT".
# usage: dkim_verify.pl ADDRESS PORT MESSAGE
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

my ($address, $port, $path) = @ARGV;
die "usage: $0 ADDRESS PORT MESSAGE\n" unless defined $path;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(
    nameservers => [$address], port => $port, recurse => 0,
    udp_timeout => 5, tcp_timeout => 5, retry => 1,
));
open(my $fh, '<:raw', $path) or die "cannot open $path: $!\n";
my $verifier = Mail::DKIM::Verifier->new();
while (my $line = <$fh>) {
    $line =~ s/\r?\n\z/\r\n/;
    $verifier->PRINT($line);
}
$verifier->CLOSE();
foreach my $signature ($verifier->signatures) {
    printf "%s %s %s\n", $signature->result, $signature->domain // '-',
        $signature->selector // '-';
}
printf "overall %s\n", $verifier->result;
