"""The service layer: take a command and a unit of work, call the domain, commit."""
