"""AWS: the only package that imports boto3 (as ``db/`` is the only one that imports the driver).

Modules here talk to AWS APIs and return plain values; the workflows decide
what to do with them.  Credentials come from boto3's standard chain; nothing
here writes a secret anywhere.
"""
