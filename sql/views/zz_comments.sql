-- Documentation of the analyst views, stored in the warehouse (duckdb_views().comment,
-- duckdb_columns().comment) so DBeaver, the duckdb CLI and Python show it next to the data.
-- CREATE OR REPLACE VIEW drops a view's comments, so this file runs after every view (file-name order)
-- on every run. A comment on a column that no longer exists fails the run: the docs cannot drift.

-- v_complaints ---------------------------------------------------------------------------------------
COMMENT ON VIEW v_complaints IS 'One row per complaint from any channel (5656 SMS, hotline, web, app, police), numbers normalised. content is the citizen''s own text: attacker-controlled, never render it unescaped.';
COMMENT ON COLUMN v_complaints.complaint_id IS 'Complaint id: the channel''s own id, or derived from the 5656 message';
COMMENT ON COLUMN v_complaints.channel IS 'sms5656 | hotline | web | app | police';
COMMENT ON COLUMN v_complaints.received_at IS 'When the carrier received the complaint (UTC; local time is Asia/Ho_Chi_Minh)';
COMMENT ON COLUMN v_complaints.occurred_at IS 'When the reported call/SMS happened, if the citizen said';
COMMENT ON COLUMN v_complaints.reporter IS 'The complaining citizen''s number, E.164 (+84…); NULL if unknown';
COMMENT ON COLUMN v_complaints.reporter_carrier IS 'Carrier of the reporter''s number by prefix';
COMMENT ON COLUMN v_complaints.reported_number IS 'The number complained about, E.164 (+84…); NULL for brandnames and invalid numbers';
COMMENT ON COLUMN v_complaints.reported_national IS 'The number complained about, national form (0…)';
COMMENT ON COLUMN v_complaints.reported_kind IS 'mobile | landline | short_code | toll_free | premium | international | brandname | invalid';
COMMENT ON COLUMN v_complaints.carrier IS 'ORIGINAL carrier of the reported number by prefix (the current carrier after porting: current_carrier_on(day))';
COMMENT ON COLUMN v_complaints.prefix IS '3-digit national prefix of the reported number (e.g. 086)';
COMMENT ON COLUMN v_complaints.protected IS 'The reported number is protected (police, hotline, emergency): the complaint is a spoofing alert, never a candidate';
COMMENT ON COLUMN v_complaints.kind IS 'call | sms: what the citizen received';
COMMENT ON COLUMN v_complaints.category IS 'impersonation | fraud | spam_call | spam_sms | harassment | other';
COMMENT ON COLUMN v_complaints.content IS 'Free text of the complaint as sent (attacker-controlled)';
COMMENT ON COLUMN v_complaints.source_file IS 'Inbox file the row came from';
COMMENT ON COLUMN v_complaints.source_line IS 'Line (or record) number in source_file';
COMMENT ON COLUMN v_complaints.run_id IS 'Run that landed the row (v_runs.run_id)';

-- v_subscriber_features ------------------------------------------------------------------------------
COMMENT ON VIEW v_subscriber_features IS 'Per number and run date: CDR behaviour and complaint features over the feature window, plus non-personal registry facts. No names, dates of birth or ID numbers.';
COMMENT ON COLUMN v_subscriber_features.run_date IS 'Local run date; the window is run_date - window_days + 1 .. run_date';
COMMENT ON COLUMN v_subscriber_features.carrier IS 'Current carrier of the number on run_date (ports applied)';
COMMENT ON COLUMN v_subscriber_features.msisdn IS 'Number, E.164 (+84…)';
COMMENT ON COLUMN v_subscriber_features.msisdn_national IS 'Number, national form (0…)';
COMMENT ON COLUMN v_subscriber_features.msisdn_int IS 'Number as E.164 digits (84…), the join key with the CDR lake';
COMMENT ON COLUMN v_subscriber_features.window_days IS 'Length of the feature window in days';
COMMENT ON COLUMN v_subscriber_features.calls_out IS 'Outgoing voice calls in the window (NULL: no CDR activity)';
COMMENT ON COLUMN v_subscriber_features.sms_out IS 'Outgoing SMS in the window';
COMMENT ON COLUMN v_subscriber_features.distinct_callees IS 'Distinct numbers called or messaged';
COMMENT ON COLUMN v_subscriber_features.calls_answered IS 'Outgoing calls with duration > 0';
COMMENT ON COLUMN v_subscriber_features.calls_short IS 'Answered calls shorter than [cdr] short_call_seconds';
COMMENT ON COLUMN v_subscriber_features.calls_unanswered IS 'Outgoing calls with duration 0';
COMMENT ON COLUMN v_subscriber_features.short_call_share IS 'calls_short / calls_answered';
COMMENT ON COLUMN v_subscriber_features.unanswered_share IS 'calls_unanswered / calls_out';
COMMENT ON COLUMN v_subscriber_features.night_events IS 'Calls and SMS starting in the night hours (local)';
COMMENT ON COLUMN v_subscriber_features.night_share IS 'night_events / (calls_out + sms_out)';
COMMENT ON COLUMN v_subscriber_features.max_calls_burst IS 'Most calls started within any sliding burst window ([cdr] burst_window_minutes)';
COMMENT ON COLUMN v_subscriber_features.short_gaps IS 'Gaps shorter than [cdr] short_gap_seconds between consecutive calls';
COMMENT ON COLUMN v_subscriber_features.short_gap_share IS 'short_gaps / (calls_out - 1)';
COMMENT ON COLUMN v_subscriber_features.events_to_new IS 'Calls and SMS to numbers not contacted before (in the history window or earlier in the feature window); one per such number';
COMMENT ON COLUMN v_subscriber_features.new_callee_share IS 'events_to_new / events with a B-number';
COMMENT ON COLUMN v_subscriber_features.calls_in IS 'Inbound voice calls seen in its carrier''s CDRs';
COMMENT ON COLUMN v_subscriber_features.sms_in IS 'Inbound SMS';
COMMENT ON COLUMN v_subscriber_features.in_out_ratio IS 'calls_in / calls_out (outgoing-only behaviour is near 0)';
COMMENT ON COLUMN v_subscriber_features.distinct_cells IS 'Cells of outgoing events';
COMMENT ON COLUMN v_subscriber_features.distinct_imeis IS 'Handsets (IMEI) of outgoing events';
COMMENT ON COLUMN v_subscriber_features.imei_changed IS 'More than one handset in the window';
COMMENT ON COLUMN v_subscriber_features.imei_max_subscribers IS 'Most numbers of this carrier seen on any of its handsets (SIM farms)';
COMMENT ON COLUMN v_subscriber_features.out_duration_s IS 'Total seconds of outgoing calls';
COMMENT ON COLUMN v_subscriber_features.first_event_at IS 'First outgoing event in the window';
COMMENT ON COLUMN v_subscriber_features.last_event_at IS 'Last outgoing event in the window';
COMMENT ON COLUMN v_subscriber_features.reports IS 'Complaints about the number in the window (NULL: none)';
COMMENT ON COLUMN v_subscriber_features.distinct_reporters IS 'Distinct citizens who complained';
COMMENT ON COLUMN v_subscriber_features.reports_call IS 'Complaints about calls';
COMMENT ON COLUMN v_subscriber_features.reports_sms IS 'Complaints about SMS';
COMMENT ON COLUMN v_subscriber_features.reports_impersonation IS 'Complaints in category impersonation';
COMMENT ON COLUMN v_subscriber_features.reports_fraud IS 'Complaints in category fraud';
COMMENT ON COLUMN v_subscriber_features.reports_spam_call IS 'Complaints in category spam_call';
COMMENT ON COLUMN v_subscriber_features.reports_spam_sms IS 'Complaints in category spam_sms';
COMMENT ON COLUMN v_subscriber_features.reports_harassment IS 'Complaints in category harassment';
COMMENT ON COLUMN v_subscriber_features.reports_other IS 'Complaints in category other';
COMMENT ON COLUMN v_subscriber_features.first_reported_at IS 'First complaint in the window';
COMMENT ON COLUMN v_subscriber_features.last_reported_at IS 'Last complaint in the window';
COMMENT ON COLUMN v_subscriber_features.corroborated_reports IS 'Complaints whose reporter really received a call/SMS from the number near the reported time';
COMMENT ON COLUMN v_subscriber_features.uncorroborated_reports IS 'Complaints checked against CDRs and not corroborated';
COMMENT ON COLUMN v_subscriber_features.spoofing_signals IS 'Uncorroborated complaints while the number is on-net: its caller ID was probably forged';
COMMENT ON COLUMN v_subscriber_features.callees IS 'Distinct numbers it called or messaged in the window (all carriers'' CDRs)';
COMMENT ON COLUMN v_subscriber_features.complained_callees IS 'Of those, how many complained about it';
COMMENT ON COLUMN v_subscriber_features.callee_complaint_share IS 'complained_callees / callees';
COMMENT ON COLUMN v_subscriber_features.plan IS 'prepaid | postpaid (registry as of run_date)';
COMMENT ON COLUMN v_subscriber_features.registry_status IS 'active | one_way_blocked | two_way_blocked | terminated (registry as of run_date)';
COMMENT ON COLUMN v_subscriber_features.kyc_verified IS 'Subscriber information verified (registry as of run_date)';
COMMENT ON COLUMN v_subscriber_features.registration_point IS 'own_store | agent | online | ekyc';
COMMENT ON COLUMN v_subscriber_features.subscriber_age_days IS 'Days since activation on run_date';
COMMENT ON COLUMN v_subscriber_features.run_id IS 'Run that computed the features (v_runs.run_id)';

-- v_candidates ---------------------------------------------------------------------------------------
COMMENT ON VIEW v_candidates IS 'Suspension candidates of every run date (history across runs): for review by the compliance team, never automatic suspensions. monitor rows are kept here but not exported.';
COMMENT ON COLUMN v_candidates.run_date IS 'Local run date that flagged the number';
COMMENT ON COLUMN v_candidates.run_id IS 'Run that flagged it (v_runs.run_id)';
COMMENT ON COLUMN v_candidates.msisdn IS 'Number, E.164 (+84…)';
COMMENT ON COLUMN v_candidates.msisdn_national IS 'Number, national form (0…)';
COMMENT ON COLUMN v_candidates.carrier IS 'Current carrier (ports applied) that must act';
COMMENT ON COLUMN v_candidates.prefix IS '3-digit national prefix';
COMMENT ON COLUMN v_candidates.action IS 'two_way_block | one_way_block | reverify | monitor (strongest of the rules that fired)';
COMMENT ON COLUMN v_candidates.reasons IS 'Ids of the rules that fired, ;-separated (config/rules.toml)';
COMMENT ON COLUMN v_candidates.score IS 'Highest rule score; orders candidates within an action';
COMMENT ON COLUMN v_candidates.distinct_reporters IS 'Distinct citizens who complained in the window';
COMMENT ON COLUMN v_candidates.reports IS 'Complaints in the window';
COMMENT ON COLUMN v_candidates.corroborated_reports IS 'Complaints confirmed by a matching CDR event';
COMMENT ON COLUMN v_candidates.first_reported_at IS 'First complaint in the window';
COMMENT ON COLUMN v_candidates.last_reported_at IS 'Last complaint in the window';
COMMENT ON COLUMN v_candidates.legal_basis IS 'Legal basis of the action';
COMMENT ON COLUMN v_candidates.due_by IS 'Date by which the carrier should act';

-- v_prefix_hotspots ----------------------------------------------------------------------------------
COMMENT ON VIEW v_prefix_hotspots IS 'Complaints per carrier and national prefix (3 and 5 digits) in the feature window, against the trailing baseline';
COMMENT ON COLUMN v_prefix_hotspots.run_date IS 'Local run date';
COMMENT ON COLUMN v_prefix_hotspots.carrier IS 'Original carrier of the prefix';
COMMENT ON COLUMN v_prefix_hotspots.prefix_len IS '3 or 5';
COMMENT ON COLUMN v_prefix_hotspots.prefix IS 'National prefix, e.g. 086 or 08612';
COMMENT ON COLUMN v_prefix_hotspots.reports IS 'Complaints in the window';
COMMENT ON COLUMN v_prefix_hotspots.distinct_numbers IS 'Distinct reported numbers in the window';
COMMENT ON COLUMN v_prefix_hotspots.distinct_reporters IS 'Distinct reporters in the window';
COMMENT ON COLUMN v_prefix_hotspots.baseline_reports IS 'Complaints in the baseline period before the window';
COMMENT ON COLUMN v_prefix_hotspots.expected_reports IS 'baseline_reports scaled to the window length';
COMMENT ON COLUMN v_prefix_hotspots.ratio IS 'reports / expected_reports (NULL: empty baseline)';
COMMENT ON COLUMN v_prefix_hotspots.watched IS 'Listed as a many-violations prefix in config/carriers.toml';
COMMENT ON COLUMN v_prefix_hotspots.is_hotspot IS 'reports >= [hotspots] min_reports and (ratio >= min_ratio or no baseline)';
COMMENT ON COLUMN v_prefix_hotspots.run_id IS 'Run that computed the row (v_runs.run_id)';

-- v_runs, v_run_executions ---------------------------------------------------------------------------
COMMENT ON VIEW v_runs IS 'Lineage, one row per run (run_id, flow). run_id is derived from the run date, every input file''s SHA-256 and the config hash, so a re-run of the same inputs is the same run: only this row changes (executions, timestamps). Every execution: v_run_executions.';
COMMENT ON COLUMN v_runs.run_id IS 'YYYYMMDD-<hash of run date, input hashes, config hash>; every output row carries it';
COMMENT ON COLUMN v_runs.flow IS 'daily | intake | audit';
COMMENT ON COLUMN v_runs.run_date IS 'Local date the run processed';
COMMENT ON COLUMN v_runs.status IS 'Status of the latest execution: running | completed | failed';
COMMENT ON COLUMN v_runs.executions IS 'How many times the run was executed';
COMMENT ON COLUMN v_runs.first_started_at IS 'Start of the first execution (UTC)';
COMMENT ON COLUMN v_runs.started_at IS 'Start of the latest execution (UTC)';
COMMENT ON COLUMN v_runs.finished_at IS 'End of the latest execution (UTC); NULL while running or after a crash';
COMMENT ON COLUMN v_runs.config_sha256 IS 'SHA-256 over the bytes of every config file';
COMMENT ON COLUMN v_runs.code_version IS 'Package version + git commit of the code that ran the latest execution';
COMMENT ON COLUMN v_runs.input_sha256 IS 'SHA-256 of every input file the run used (inbox files and the ingest ledger)';
COMMENT ON COLUMN v_runs.input_files IS 'Number of input files';
COMMENT ON COLUMN v_runs.inputs IS 'The input files found in the ingest ledger: sha256, kind, carrier, path';
COMMENT ON COLUMN v_runs.stage_counts IS 'Row counts per stage of the latest execution (JSON)';
COMMENT ON COLUMN v_runs.outputs IS 'Every output file the run wrote in any execution: path -> SHA-256 (JSON)';
COMMENT ON COLUMN v_runs.error IS 'Error of the latest execution, if it failed';
COMMENT ON COLUMN v_runs.execution_history IS 'Every execution: execution_id, started_at, finished_at, status';
COMMENT ON VIEW v_run_executions IS 'Lineage, one row per execution of a flow (a re-run is a new execution of the same run_id)';
COMMENT ON COLUMN v_run_executions.execution_id IS 'Random id of one execution';
COMMENT ON COLUMN v_run_executions.run_id IS 'The run (v_runs.run_id)';
COMMENT ON COLUMN v_run_executions.stage_counts IS 'Row counts per stage of this execution (JSON)';
COMMENT ON COLUMN v_run_executions.outputs IS 'Output files of this execution: path -> SHA-256 (JSON)';

-- v_subscribers_pseudo -------------------------------------------------------------------------------
COMMENT ON VIEW v_subscribers_pseudo IS 'The subscriber registry (latest snapshot per carrier) WITHOUT personal data, for analysts without PII clearance: a person is person_ref, a keyed HMAC of the ID number.';
COMMENT ON COLUMN v_subscribers_pseudo.person_ref IS 'HMAC-SHA-256 of the normalised ID number under the carrier''s secret key; counts numbers per person, cannot be reversed';
COMMENT ON COLUMN v_subscribers_pseudo.numbers_on_document IS 'Numbers this person (person_ref) holds on this network';
COMMENT ON COLUMN v_subscribers_pseudo.activated_month IS 'Activation month (YYYY-MM), not the full date';
COMMENT ON COLUMN v_subscribers_pseudo.line_age_days IS 'Days from activation to the latest snapshot';
COMMENT ON COLUMN v_subscribers_pseudo.has_full_name IS 'Whether a full name is on file (not the name)';
COMMENT ON COLUMN v_subscribers_pseudo.has_date_of_birth IS 'Whether a date of birth is on file';
COMMENT ON COLUMN v_subscribers_pseudo.has_id_number IS 'Whether an ID number is on file';
COMMENT ON COLUMN v_subscribers_pseudo.latest_snapshot IS 'The carrier snapshot this row reflects';

-- v_requests -----------------------------------------------------------------------------------------
COMMENT ON VIEW v_requests IS 'Authority requests (latest delivery of each) and, per holding carrier, whether a signed package answered them, judged now; requests_as_of(instant) judges them at another instant (the run report uses the end of the run date).';
COMMENT ON COLUMN v_requests.request_id IS 'The authority''s reference, e.g. 432/STTTT-TTra';
COMMENT ON COLUMN v_requests.authority IS 'Who asked (as written in the request)';
COMMENT ON COLUMN v_requests.requested_action IS 'information | suspend (suspend: the numbers become two-way-block candidates at once)';
COMMENT ON COLUMN v_requests.received_at IS 'When the request was received';
COMMENT ON COLUMN v_requests.due_at IS 'Deadline for the answer';
COMMENT ON COLUMN v_requests.carrier IS 'A carrier holding some of the requested numbers (NULL: no package built yet)';
COMMENT ON COLUMN v_requests.has_package IS 'A package for this carrier was built';
COMMENT ON COLUMN v_requests.status IS 'packaged | packaged_late | no_holder | overdue | pending';
COMMENT ON COLUMN v_requests.overdue IS 'No package yet and due_at has passed';
