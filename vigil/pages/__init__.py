"""The public pages and the organisers' area: thin views over the domain."""
