"""libraryops: a public library's technology as code.

Shared Python used by both engines (Ansible and pyinfra), the lab and the tests: the inventory
adapter, validation models, lab control and reports.
"""
