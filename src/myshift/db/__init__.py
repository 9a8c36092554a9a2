"""Everything that talks to a server (the only package that imports the driver)."""
