-- Record that an execution began (a crash leaves it visibly 'running').
INSERT INTO runs (execution_id, run_id, flow, run_date, started_at, status, config_sha256, code_version, input_sha256)
VALUES ($execution_id, $run_id, $flow, $run_date, $started_at, 'running', $config_sha256, $code_version, $input_sha256);
