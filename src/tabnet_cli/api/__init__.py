"""tabnet from Python: scikit-learn estimators over the train job, and loading a run
directory as a fitted estimator."""
