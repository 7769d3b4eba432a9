"""The jobs behind the commands: train (the stages in order), ensembles, cross-validation and
tuning.
"""
