"""Funding's public constants, for the gateway's schemas and other services: none keeps a copy."""

PROJECT_KINDS = ("training", "industry", "popularisation")  # §004: 培训, 产业, 科普
APPLICANTS = ("individual", "unit")
LEVEL_KINDS = ("county", "city", "province", "national")  # the unit level that reviews a level
