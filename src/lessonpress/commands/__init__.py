"""One module per CLI command; each holds options and output, the library holds the logic."""
