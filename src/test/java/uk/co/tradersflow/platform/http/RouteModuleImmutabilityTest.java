package uk.co.tradersflow.platform.http;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.Test;

/**
 * One instance of each route module is mounted from every HTTPS event loop at once, so a module
 * must not keep what {@code mount} is given in a field: a plain field written from several loops
 * is a data race. Fields are final; a volatile one (readiness's draining flag) is a deliberate,
 * safely published switch.
 */
class RouteModuleImmutabilityTest {
    private static final ArchRule FIELDS_ARE_FINAL = fields().that()
            .areDeclaredInClassesThat()
            .implement(RouteModule.class)
            .and()
            .areNotStatic()
            .and()
            .doNotHaveModifier(JavaModifier.VOLATILE)
            .and()
            .doNotHaveModifier(JavaModifier.SYNTHETIC)
            .should()
            .beFinal()
            .because("one route module instance is mounted from every event loop; mount() must not assign fields");

    @Test
    void everyRouteModuleOfTheServerHoldsOnlyFinalFields() {
        JavaClasses main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("uk.co.tradersflow");
        FIELDS_ARE_FINAL.check(main);
    }

    @Test
    void aModuleThatKeepsTheApiFromMountIsCaught() {
        JavaClasses fixture = new ClassFileImporter().importClasses(RememberingModule.class);
        assertThatThrownBy(() -> FIELDS_ARE_FINAL.check(fixture)).hasMessageContaining("RememberingModule.api");
    }

    /** The shape this rule forbids: the Api kept from mount() for the handlers. */
    static final class RememberingModule implements RouteModule {
        private Api api;

        @Override
        public void mount(Router router, Api api) {
            this.api = api;
        }

        Api api() {
            return api;
        }
    }
}
