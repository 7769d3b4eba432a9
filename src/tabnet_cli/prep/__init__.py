"""Preparing data for a network: the split, features and targets fitted on training rows,
scaling, class weights and the prepared types.
"""
