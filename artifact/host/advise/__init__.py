"""The compression advisor the paper asks for (§V): from a run's records, the Pareto-optimal
configurations of each model and the one to deploy under the user's constraints.

    pareto.py      configurations, dominance, fronts, constraints, recommendations (pure, tested exactly)
    from_records   configurations built from a results directory's records
"""
