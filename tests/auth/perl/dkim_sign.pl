#!/usr/bin/perl
# Sign a message with Mail::DKIM and print the signed message.
# usage: dkim_sign.pl ALGORITHM DOMAIN SELECTOR KEYFILE MESSAGE
use strict;
use warnings;
use Mail::DKIM::Signer;

my ($algorithm, $domain, $selector, $keyfile, $path) = @ARGV;
die "usage: $0 ALGORITHM DOMAIN SELECTOR KEYFILE MESSAGE\n" unless defined $path;
my $signer = Mail::DKIM::Signer->new(
    Algorithm => $algorithm, Method => 'relaxed/relaxed',
    Domain => $domain, Selector => $selector, KeyFile => $keyfile,
);
open(my $fh, '<:raw', $path) or die "cannot open $path: $!\n";
my $message = do { local $/; <$fh> };
$message =~ s/\r?\n/\r\n/g;
$signer->PRINT($message);
$signer->CLOSE();
binmode STDOUT;
print $signer->signature->as_string, "\r\n", $message;
