"""`provision deploy`: the baseline services (Ansible roles under roles/) applied to a province."""
