"""Ansible filter plugins (``filter_plugins = plugins/filter`` in ansible.cfg)."""
