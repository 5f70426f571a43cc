"""OpenSIRT exports."""
