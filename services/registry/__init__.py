"""Registry service: real-name registers of experts, households and pairings, and the 两数."""
