"""The exception workbench's service layer (docs/exceptions.md): feeding the queue from holds
and the playbook timer (``feed``), people's commands (``work``), bulk actions (``bulk``)."""
