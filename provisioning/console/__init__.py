"""The web console: HR staff, unit administrators and the provincial office do their jobs in a browser,
on the same domain code as the CLI (accounts plan/apply/sheets/journal, report forms and files).

  config.py    the settings file (inventory, data folder, listen address, cookie and login limits)
  app.py       Django configured in code (file sessions, no database, no admin) and the waitress server
  security.py  the logged-in official, roles per route, CSP and headers, idle expiry, login rate limit
  state.py     what the console keeps in <data>/<province>/console/ (second factors, plans, progress)
  upload.py    type sniffing and zip-bomb refusal for uploaded rosters
  views.py     the pages; urls.py the HTTP contract; texts.py the Vietnamese/English messages
"""
