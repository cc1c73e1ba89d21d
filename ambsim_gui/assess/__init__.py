"""Assessment: KPIs (``metrics``), per-call feedback (``feedback``) and the KPI table
(``report_text``), all projected from the engine's event stream, hidden truth included."""
