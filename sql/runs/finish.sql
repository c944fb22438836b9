-- Close an execution with its outcome, per-stage counts and the outputs it wrote (path → sha256).
UPDATE runs
SET finished_at = $finished_at, status = $status, stage_counts = $stage_counts, outputs = $outputs, error = $error
WHERE execution_id = $execution_id;
