"""OpenSIRT planning."""
