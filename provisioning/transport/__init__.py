"""Shared plumbing to reach the province's hosts: SSH sessions under one host-key policy (`ssh`),
ansible-runner sessions (`ansible`), the provincial CA (`ca`)."""
