-- nothing but comments
/* at all */
# really
