"""Regenerates sample_data/ from data sets bundled with scikit-learn (no download).

Run: python scripts/make_sample_data.py
"""

from pathlib import Path

from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

OUT = Path(__file__).resolve().parent.parent / "sample_data"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    # Regression: disease progression one year after baseline (unscaled original values).
    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    diabetes.rename(columns={"target": "progression"}).to_csv(OUT / "diabetes.csv", index=False)

    # Binary classification with string labels.
    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame.copy()
    frame["diagnosis"] = [cancer.target_names[i] for i in frame.pop("target")]
    frame.to_csv(OUT / "breast-cancer.csv", index=False, float_format="%.6g")

    # Multiclass: the 8x8 digits of the course's lesson 6 (pixel values 0..16).
    digits = load_digits(as_frame=True).frame
    digits = digits.astype(int).rename(columns={"target": "digit"})
    digits.to_csv(OUT / "digits.csv", index=False)


if __name__ == "__main__":
    main()
