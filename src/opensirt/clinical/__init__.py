"""Clinical layer: liver function scores, staging, eligibility, response, adverse events."""
