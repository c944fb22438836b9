-- Is number portability known? 1 when the current_carrier_on(day) table macro (sql/schema/030) exists.
SELECT count(*) AS present FROM duckdb_functions() WHERE function_name = 'current_carrier_on';
