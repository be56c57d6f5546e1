namespace Flock.Models;

/// <summary>Result of evaluating a model on a dataset view.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="Accuracy">Share of correct predictions (classification; NaN for regression).</param>
/// <param name="Count">Number of examples evaluated.</param>
public readonly record struct EvaluationResult(double Loss, double Accuracy, int Count);
