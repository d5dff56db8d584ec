"""The threats of docs/security.md replayed as an attacker would: `test_NN_*` is threat NN.

The index (threat, test, acceptance point, unit tests with the details) is README.md
beside this file.
"""
