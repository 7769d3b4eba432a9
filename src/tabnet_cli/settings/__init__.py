"""Settings: the typed configs (the one source of every default and check), recipes, config
files and the strict typed reader.
"""
