"""Reading and writing tables: sources (files, stdin, folders and globs), CSV sniffing and
parsing, whole tables and chunks, the prediction writer and the output rules.
"""
