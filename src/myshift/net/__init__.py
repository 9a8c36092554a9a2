"""Network ways in that are not AWS APIs: SSH tunnels to a bastion."""
