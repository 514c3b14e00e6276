DROP TABLE error_events;
