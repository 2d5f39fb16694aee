#!/usr/bin/env node
import "../dist/src/bin/miroir-ctl.js";
