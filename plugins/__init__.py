"""Ansible plugins of the repository: ``callback/`` and ``filter/`` (ansible.cfg loads them by
path; installed with the project, so tests import them by name too)."""
