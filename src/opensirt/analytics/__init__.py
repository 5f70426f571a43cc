"""Outcomes of a SIRT cohort: response, survival, dose-response and pooled evidence."""
