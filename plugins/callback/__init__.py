"""Ansible callback plugins (``callback_plugins = plugins/callback`` in ansible.cfg)."""
