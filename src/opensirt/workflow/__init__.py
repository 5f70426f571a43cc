"""OpenSIRT workflow."""
