"""The researchers' half: from oTree exports to tidy data, a codebook, effects and a report.

Run as ``python -m analysis {tidy,report,fetch,simulate,design,preregister,demo}`` (see ``analysis/README.md``).
Imports no oTree. One decision, one place:

- ``contract``: the tidy table, codes, scales and effects schema (docs/design.md)
- ``load``: exports (oTree wide or the custom export) -> tidy table; withdrawals; scoring
- ``codebook``: codebook (CSV, Markdown) and the Stata file
- ``core``: the estimators' numeric core (moments, the Welch difference in means, t
  intervals; NumPy and scipy.special only), shared with the app's class results page
- ``estimators``: difference in means, Lin, factorial, block-weighted, fixed effects,
  heterogeneity; every estimator returns rows of the effects schema
- ``registry``: each estimator's name, function, scope, role and description (once)
- ``assignment``: the stratified permuted-block assignment (the experiment imports it)
- ``inference``: Holm, Benjamini-Hochberg, TOST, randomisation inference
- ``measurement``: reliability, balance, flow
- ``plan`` + ``default_plan.toml``: the analysis plan
- ``effects``: the plan applied to a tidy table (what the report and simulations call)
- ``report``: tables, figures and the self-contained report.html (sections as functions)
- ``htmlparts``: the style sheet, tables and figures every HTML page shares
- ``simulate``: a data-generating process with known effects, export-shaped
- ``fetch``: download a session's export through oTree's REST API
- ``design``: design diagnosis (power, bias, coverage, MDE) with the real assignment
- ``prereg``: the pre-registration document; deviations from the registered plan
- ``privacy``: small programme x site x age x gender cells, warned and coarsened
- ``demo``: the dry run (a simulated class through the real apps, then the report)
- ``deployment``: not analysis: the server's address, generated admin password, login
  banner and production check, for ``settings.py`` (which oTree imports before the app
  package can be imported; this package imports no oTree)
"""
