"""The only package that speaks SQL: connection, migrations, repositories, persistence."""
