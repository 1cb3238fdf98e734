"""The `byods` command line: parsing and rendering only; the library does the work."""
