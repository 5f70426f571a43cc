"""OpenSIRT report."""
