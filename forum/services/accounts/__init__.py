"""Readers' accounts: sign-up and sign-in, recovery, single sign-on, throttles, profiles."""
