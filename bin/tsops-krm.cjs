#!/usr/bin/env node
'use strict';
// `tsops-krm`: `tsops krm` under a name kustomize can run as an exec KRM
// function (`exec: {path: tsops-krm}`) or a legacy plugin (`tsops-krm MANIFEST`).
process.argv.splice(2, 0, 'krm');
require('./tsops.cjs');
