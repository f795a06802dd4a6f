-- The personnel section's employee number (職員番号, I1), as staff CSV files carry it: unique
-- within a body when given.
ALTER TABLE users ADD COLUMN employee_no TEXT;
CREATE UNIQUE INDEX users_employee_no ON users(org_id, employee_no);
