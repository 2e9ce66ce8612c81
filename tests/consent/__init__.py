"""Tests of the consent store, the double opt-in flow and the gate."""
