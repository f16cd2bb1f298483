"""Awards' public constants, for the gateway and other services: none keeps a copy."""

# Only a provincial office or a national society nominates (§003), each for itself.
NOMINATORS = ("provincial_office", "society")
# The public raise objections during the notice; auditors and inspectors write nothing.
OBJECTORS = ("national_office", "provincial_office", "society", "county_association", "expert")
