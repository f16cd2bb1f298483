"""Supervision service: campaigns, self-inspections and the statistics table, field inspection, rectification."""
