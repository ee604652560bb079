"""libraryops' Azure code: the spec, the client factory, plan/apply/drift and the ARM stand-in.

Named ``cloud`` (never ``azure``) so that nothing shadows the Azure SDK's ``azure`` namespace.
"""
