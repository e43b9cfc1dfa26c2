"""The site as one frozen value: domain types, assembly, the topic plan and poll results."""
