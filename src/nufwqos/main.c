/* nufw-qos: prints the commands that put nufw's user marks to work.
 *
 * The output is a shell script for one machine: the gateway (keep the mark
 * on the connection, route, shape and set DSCP by it) or an upstream router
 * (route by the DSCP the gateway wrote).  `up' prints the commands that set
 * a recipe up, `down' the ones that remove exactly what `up' added.
 *
 * The parts: options.c and mappings.c read the command line, layout.c the
 * mark fields and selectors, plan.c turns the options into a plan (rules
 * and commands, whatever the backend), render*.c print it.
 */
#include "config.h"

#include "options.h"
#include "plan.h"
#include "render.h"

int main(int argc, char **argv)
{
	static struct qos_opts o;
	static struct qos_plan plan;

	if (qos_options_read(argc, argv, &o)) {
		qos_plan_build(&o, &plan);
		qos_render(&o, &plan, argc, argv);
	}
	return finish_output();
}
