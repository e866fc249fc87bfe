"""Records to and from the DataFrames of other energy libraries (pvlib, OpenOA).

Each adapter is a table of column names and unit factors (``frames``) applied by one pair of
functions; they need pandas (``pip install 'odse[pvlib]'`` or ``'odse[openoa]'``), and
OpenOA's ``PlantData`` needs OpenOA itself.
"""
