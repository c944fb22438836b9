-- An execution of the same flow and run date still 'running' when a new one starts never recorded its
-- outcome: its process was killed (SIGKILL, OOM killer, power loss) before runs/finish, so no exception
-- handler ran. Close it as failed, saying so, so the journal shows the attempt and that it did not complete.
-- (Two executions of one flow cannot write the warehouse at the same time: DuckDB locks the file.)
UPDATE runs
SET status = 'failed',
    error = 'abandoned: the process ended without recording an outcome (killed or crashed); '
            || 'found by execution ' || $execution_id
WHERE flow = $flow AND run_date = $run_date AND status = 'running' AND execution_id <> $execution_id;
